"""A JsaTask whose per-rank checkpoint state is its own copy of the sample cache, so that a DDP test can compare
what every rank holds (the real task saves the cache once, from rank 0)."""
from __future__ import annotations

from typing import Any, Dict

from phonasr.jsa.task import JsaTask


class CacheSpyJsaTask(JsaTask):
    def state_dict(self) -> Dict[str, Any]:
        return {"rank_cache": dict(self.cache.items())}
