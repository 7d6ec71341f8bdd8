// Reads one byte of the request, answers ERROR, closes with the rest unread.
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class Server {
    public static void main(String[] args) throws Exception {
        try (ServerSocket listener = new ServerSocket(5000, 5, InetAddress.getByName("127.0.0.1"))) {
            System.out.println("listening on port 5000");
            System.out.flush();
            Socket conn = listener.accept();
            conn.getInputStream().read();
            OutputStream out = conn.getOutputStream();
            out.write("ERROR\n".getBytes());
            out.flush();
            conn.close();
        }
    }
}
