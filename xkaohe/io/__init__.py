"""The only code that touches files: readers, writers and their encodings."""
