"""Worked examples of the recurrence operations (``reference.recurrences``) in pure torch, each as a
step loop and as a chunked form: ``base`` holds the calling convention they share, ``chunks`` the
two chunked algorithms (decayed linear attention, the delta rule's), one module per recurrence."""
