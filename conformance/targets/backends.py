"""CUDA backends a row can run under: the torch flags that choose cuDNN, TF32 or torch's own kernels.

The same torch call on a GPU runs cuDNN with TF32, cuDNN without it, or torch's native CUDA
kernels (cuDNN disabled), at different precisions; ``default`` leaves torch's flags as the
process found them.  A CPU row always runs under ``default``.  torch is imported only when a
row actually switches flags.
"""
from contextlib import contextmanager

#: name -> the cuDNN flags it sets (None: as found).
BACKENDS = {
    "default": None,
    "cudnn-tf32": {"enabled": True, "allow_tf32": True},
    "cudnn": {"enabled": True, "allow_tf32": False},
    "native": {"enabled": False},
}


@contextmanager
def selected(backend):
    """Runs the body under ``backend``'s flags, restoring torch's afterwards."""
    flags = BACKENDS[backend]
    if flags is None:
        yield
        return
    import torch
    with torch.backends.cudnn.flags(enabled=flags["enabled"], allow_tf32=flags.get("allow_tf32",
                                                                                   torch.backends.cudnn.allow_tf32)):
        yield


def in_force():
    """The flags that decide a CUDA RNN's backend and precision, as they are now."""
    import torch
    return {"cudnn.enabled": torch.backends.cudnn.enabled, "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32}
