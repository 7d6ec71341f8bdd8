// Reads 10 bytes of a 100-byte request, starts /bin/true, reads the other
// 90, answers 1000 bytes of the tests' pattern and closes. Run with
// -Djdk.lang.Process.launchMechanism=VFORK: the child closes every fd
// before its exec, in the parent's memory.
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class Spawner {
    public static void main(String[] args) throws Exception {
        try (ServerSocket listener = new ServerSocket(5000, 5, InetAddress.getByName("127.0.0.1"))) {
            System.out.println("listening on port 5000");
            System.out.flush();
            Socket conn = listener.accept();
            conn.setSoTimeout(3000);
            InputStream in = conn.getInputStream();
            in.readNBytes(10);
            new ProcessBuilder("/bin/true").start().waitFor();
            int rest = in.readNBytes(90).length;
            System.out.println("rest=" + rest);
            byte[] reply = new byte[1000];
            for (int i = 0; i < reply.length; i++)
                reply[i] = (byte) ((i * 7 + i / 251) & 0xff);
            OutputStream out = conn.getOutputStream();
            out.write(reply);
            out.flush();
            conn.close();
        }
    }
}
