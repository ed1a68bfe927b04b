"""HTTP server around a :class:`~.app.Simulator`: werkzeug's threaded server in a background thread."""

import logging
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

_logger = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """No per-request log lines (URLs may carry references; keep logs small); HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):
        pass

    def log(self, type, message, *args):
        if type == "error":
            _logger.debug("simulator http: " + message, *args)


class SimulatorServer:
    """Serve ``sim`` on ``host:port`` (0 = free port).

    ``.start()`` runs in a daemon thread; ``.stop()`` shuts down and flushes the state;
    ``.base_url`` = ``http://HOST:PORT/v2``; ``.root_url`` = ``http://HOST:PORT``;
    ``.latarnia_url`` = ``http://HOST:PORT/latarnia``; ``.admin_url`` = ``http://HOST:PORT/_sim``.
    """

    def __init__(self, sim, host="127.0.0.1", port=0):
        self.sim = sim
        self.host = host
        self._server = make_server(host, port, sim, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.port = self._server.socket.getsockname()[1]
        self._thread = None

    @property
    def root_url(self):
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return "http://%s:%d" % (host, self.port)

    @property
    def base_url(self):
        return self.root_url + "/v2"

    @property
    def latarnia_url(self):
        return self.root_url + "/latarnia"

    @property
    def admin_url(self):
        return self.root_url + "/_sim"

    def start(self):
        self.sim.state.start_flusher()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="ksef-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self):
        """Blocking variant (CLI)."""
        self.sim.state.start_flusher()
        try:
            self._server.serve_forever()
        finally:
            self.sim.state.stop_flusher()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)
            self._thread = None
        self.sim.state.stop_flusher()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
