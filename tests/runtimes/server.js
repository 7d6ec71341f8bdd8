// Takes the first chunk of a 1 MB request, answers ERROR once that is
// written, and destroys the socket 50 ms later: the rest of the request,
// which the client goes on sending meanwhile, is unread.
const net = require("net");
const server = net.createServer((conn) => {
  conn.once("data", () => {
    conn.pause();
    conn.write("ERROR\n", () => {
      setTimeout(() => {
        conn.destroy();
        server.close();
      }, 50);
    });
  });
});
server.listen(5000, "127.0.0.1", () => console.log("listening on port 5000"));
