// The tutorial's client, line for line, on jsock. Run it (from the repository root) with
//   ./jsock build && java -cp core/target/classes examples/Client.java [port]
import static io.jsock.Family.AF_INET;
import static io.jsock.SocketKind.SOCK_STREAM;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.Socket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

void main(String[] args) throws Exception {
  // Create a TCP/IP socket
  var clientSocket = Socket.create(AF_INET, SOCK_STREAM);

  // Define the server address and port
  var serverAddress = new InetSocketAddress("localhost", args.length > 0 ? Integer.parseInt(args[0]) : 12345);

  // Connect the socket to the server address and port
  clientSocket.connect(serverAddress);

  // Send data to the server
  var message = "Hello, server! This is the client.";
  clientSocket.sendAll(message.getBytes(UTF_8));

  // Receive and print data from the server
  var data = clientSocket.recv(1024);
  // (strict UTF-8, as Python's data.decode(): bytes that are not UTF-8 stop the program)
  IO.println("Received: " + UTF_8.newDecoder().decode(ByteBuffer.wrap(data)));

  // Close the socket
  clientSocket.close();
}
