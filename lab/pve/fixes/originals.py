"""fakepve's own functions that the lab replaced ('module.attribute' -> function, None if fakepve no longer
has it): the fixed versions still call them, and the canary checks them."""

ORIGINALS = {}
