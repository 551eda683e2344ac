// The tutorial's server, line for line, on jsock. Run it (from the repository root) with
//   ./jsock build && java -cp core/target/classes examples/Server.java [port]
import static io.jsock.Family.AF_INET;
import static io.jsock.SocketKind.SOCK_STREAM;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.jsock.Socket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

void main(String[] args) throws Exception {
  // Create a TCP/IP socket
  var serverSocket = Socket.create(AF_INET, SOCK_STREAM);

  // Define the server address and port
  var serverAddress = new InetSocketAddress("localhost", args.length > 0 ? Integer.parseInt(args[0]) : 12345);

  // Bind the socket to the server address and port
  serverSocket.bind(serverAddress);

  // Listen for incoming connections (maximum of 1 connection in the queue)
  serverSocket.listen(1);

  IO.println("Server is listening on " + serverAddress.getHostString() + ":" + serverAddress.getPort());

  // Accept incoming connection
  var accepted = serverSocket.accept();
  var clientSocket = accepted.conn();

  // Receive and print data from the client
  var data = clientSocket.recv(1024);
  // (strict UTF-8, as Python's data.decode(): bytes that are not UTF-8 stop the program)
  IO.println("Received: " + UTF_8.newDecoder().decode(ByteBuffer.wrap(data)));

  // Send a response back to the client
  var message = "Hello, client! This is the server.";
  clientSocket.sendAll(message.getBytes(UTF_8));

  // Close the sockets
  clientSocket.close();
  serverSocket.close();
}
