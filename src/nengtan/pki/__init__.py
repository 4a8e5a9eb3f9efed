"""``nengtan pki``: a local certificate authority and the certificates of the field links."""

from nengtan.pki.issue import ADAPTER_URI, SERVER_URI, PkiPaths, init_pki, pki_paths

__all__ = ["ADAPTER_URI", "SERVER_URI", "PkiPaths", "init_pki", "pki_paths"]
