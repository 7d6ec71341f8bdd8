# Reads one byte of the request, answers ERROR, closes with the rest unread.
import socket

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 5000))
listener.listen(5)
print("listening on port 5000", flush=True)
conn, _ = listener.accept()
conn.recv(1)
conn.sendall(b"ERROR\n")
conn.close()
