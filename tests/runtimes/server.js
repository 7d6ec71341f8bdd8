// Takes the first chunk of a 1 MB request, answers ERROR once that is
// written, and destroys the socket: the rest of the request is unread.
const net = require("net");
const server = net.createServer((conn) => {
  conn.once("data", () => {
    conn.pause();
    conn.write("ERROR\n", () => {
      conn.destroy();
      server.close();
    });
  });
});
server.listen(5000, "127.0.0.1", () => console.log("listening on port 5000"));
