# gevent servers for `make bench`: python3 gevent_server.py <echo|hello|keepalive>
import sys
from gevent.server import StreamServer

HELLO_10 = b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!'
HELLO_11 = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!'
mode = sys.argv[1]


def handle(sock, _addr):
    try:
        if mode == 'echo':
            while True:
                d = sock.recv(65536)
                if not d:
                    break
                sock.sendall(d)
            return
        keep = mode == 'keepalive'
        buf = b''
        while True:
            while b'\r\n\r\n' not in buf:
                d = sock.recv(65536)
                if not d:
                    return
                buf += d
            buf = buf[buf.index(b'\r\n\r\n') + 4:]
            sock.sendall(HELLO_11 if keep else HELLO_10)
            if not keep:
                return
    except OSError:
        pass


server = StreamServer(('127.0.0.1', 0), handle, backlog=4096)
server.init_socket()
print('ready %d' % server.address[1], flush=True)
server.serve_forever()
