/* Sockets and epoll sets as they are made (hook_socket.c). */
#ifndef NORST_HOOK_SOCKET_H
#define NORST_HOOK_SOCKET_H

/* Note a new epoll fd; returns it. */
int epoll_created(int epfd);

#endif
