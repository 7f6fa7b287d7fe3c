# eventlet servers for `make bench`: python3 eventlet_server.py <echo|hello|keepalive>
import sys
import eventlet

HELLO_10 = b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!'
HELLO_11 = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!'
mode = sys.argv[1]


def echo(sock):
    while True:
        d = sock.recv(65536)
        if not d:
            break
        sock.sendall(d)


def http(sock, keep):
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


def handle(sock):
    try:
        if mode == 'echo':
            echo(sock)
        else:
            http(sock, mode == 'keepalive')
    except OSError:
        pass
    finally:
        sock.close()


server = eventlet.listen(('127.0.0.1', 0), backlog=4096)
print('ready %d' % server.getsockname()[1], flush=True)
pool = eventlet.GreenPool(100000)
while True:
    conn, _ = server.accept()
    pool.spawn_n(handle, conn)
