#!/usr/bin/env python3
"""A TCP proxy that logs the request line of every HTTP request passing through it.

    python3 bench/count-requests.py LISTEN_PORT UPSTREAM_PORT LOGFILE

Bytes pass unchanged (SigV4 signatures stay valid); requests are delimited by their headers and
Content-Length (s3pod sends no chunked bodies). `wc -l LOGFILE` is the number of requests.
"""
import socket
import socketserver
import sys
import threading

LISTEN, UPSTREAM, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()


def pump(src, dst):
    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        up = socket.create_connection(("127.0.0.1", UPSTREAM))
        back = threading.Thread(target=pump, args=(up, self.request), daemon=True)
        back.start()
        reader = self.request.makefile("rb")
        try:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                first = head.split(b"\r\n", 1)[0].decode("latin-1")
                with lock, open(LOG, "a") as log:
                    log.write(first.rsplit(" ", 1)[0] + "\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                up.sendall(head)
                while length > 0:
                    chunk = reader.read(min(length, 1 << 16))
                    if not chunk:
                        return
                    up.sendall(chunk)
                    length -= len(chunk)
        finally:
            try:
                up.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            back.join(timeout=30)
            up.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


with Server(("127.0.0.1", LISTEN), Handler) as server:
    server.serve_forever()
