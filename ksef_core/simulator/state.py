"""Thread-safe state store of the simulator, optionally persisted in a data directory.

* ``state.lock`` – one re-entrant lock; the dispatcher holds it while a route handler runs
  (unless the route was registered with ``lock=False``).
* ``state.bucket(name)`` – a named dict that is persisted (pickle snapshot) when a data
  directory is configured. Values must be picklable (dicts, lists, str, int, datetime…).
* ``state.put_blob(kind, key, data)`` / ``get_blob`` / ``delete_blob`` – large binary objects
  (invoice XML, UPO, uploaded parts): in memory, or files under ``<data_dir>/blobs/<kind>/``.
* ``state.mark_dirty()`` – called by the dispatcher after every non-GET request; a flusher
  thread writes the snapshot at most every ``flush_interval`` seconds, and ``flush()`` on stop.
"""

import contextlib
import os
import pickle
import re
import tempfile
import threading

SNAPSHOT = "state.pickle"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _safe_name(key):
    key = str(key)
    safe = _SAFE.sub("_", key)
    if safe in ("", ".", "..") or safe != key:
        # keep names unique even after sanitising
        import hashlib

        safe = "%s~%s" % (safe[:80], hashlib.sha256(key.encode("utf-8")).hexdigest()[:16])
    return safe


class SimState:
    """All mutable data of a simulator instance."""

    def __init__(self, data_dir=None, flush_interval=0.5):
        self.lock = threading.RLock()
        self.data_dir = os.path.abspath(data_dir) if data_dir else None
        self.flush_interval = flush_interval
        self._buckets = {}
        self._blobs = {}
        self._dirty = False
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if self.data_dir:
            os.makedirs(os.path.join(self.data_dir, "blobs"), exist_ok=True)
            self._load()

    # -- buckets --------------------------------------------------------------------------------
    def bucket(self, name):
        """The persisted dict called ``name`` (created empty on first use)."""
        with self.lock:
            return self._buckets.setdefault(name, {})

    def bucket_names(self):
        with self.lock:
            return sorted(self._buckets)

    # -- blobs ----------------------------------------------------------------------------------
    def _blob_path(self, kind, key):
        return os.path.join(self.data_dir, "blobs", _safe_name(kind), _safe_name(key))

    def put_blob(self, kind, key, data):
        """Store bytes under (kind, key); written to disk immediately with a data directory."""
        data = bytes(data)
        if not self.data_dir:
            with self.lock:
                self._blobs[(kind, key)] = data
            return
        path = self._blob_path(kind, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _atomic_write(path, data)

    def get_blob(self, kind, key):
        """Bytes stored under (kind, key) or None."""
        if not self.data_dir:
            with self.lock:
                return self._blobs.get((kind, key))
        try:
            with open(self._blob_path(kind, key), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def delete_blob(self, kind, key):
        if not self.data_dir:
            with self.lock:
                self._blobs.pop((kind, key), None)
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._blob_path(kind, key))

    # -- persistence ----------------------------------------------------------------------------
    def mark_dirty(self):
        self._dirty = True

    def _load(self):
        path = os.path.join(self.data_dir, SNAPSHOT)
        if not os.path.exists(path):
            return
        with open(path, "rb") as fh:
            # Our own snapshot, written by flush(); the data directory must be trusted.
            data = pickle.load(fh)
        self._buckets = dict(data.get("buckets", {}))

    def flush(self):
        """Write the snapshot now (no-op without a data directory)."""
        if not self.data_dir:
            return
        with self._flush_lock:
            with self.lock:
                self._dirty = False
                payload = pickle.dumps({"version": 1, "buckets": self._buckets}, protocol=4)
            _atomic_write(os.path.join(self.data_dir, SNAPSHOT), payload)

    def start_flusher(self):
        """Background thread flushing dirty state periodically (only with a data directory)."""
        if not self.data_dir or self._thread:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_flusher, name="ksef-sim-flusher", daemon=True)
        self._thread.start()

    def _run_flusher(self):
        while not self._stop.wait(self.flush_interval):
            if self._dirty:
                self.flush()

    def stop_flusher(self):
        if self._thread:
            self._stop.set()
            self._thread.join(5)
            self._thread = None
        self.flush()


def _atomic_write(path, data):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
