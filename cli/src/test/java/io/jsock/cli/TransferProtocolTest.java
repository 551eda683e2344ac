package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.Socket;
import io.jsock.Sockets;
import java.io.DataInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The transfer protocol's texts over a real socket pair. */
final class TransferProtocolTest {
  @Test
  void aTextTooLongIsCutBeforeACharacterNotThroughIt() throws IOException {
    String reason = "é".repeat(600) + "!"; // 1,201 UTF-8 bytes: byte 1,024 starts an 'é'
    assertThat(received(new TransferProtocol.Refused(reason)))
        .isEqualTo(new TransferProtocol.Refused("é".repeat(512)));
    String odd = "x" + "é".repeat(600); // byte 1,024 is the second byte of an 'é'
    assertThat(received(new TransferProtocol.Refused(odd)))
        .isEqualTo(new TransferProtocol.Refused("x" + "é".repeat(511)));
  }

  @Test
  void aTextThatFitsGoesWhole() throws IOException {
    String reason = "refused: ✓ " + "a".repeat(1000); // 1,014 bytes
    assertThat(received(new TransferProtocol.Refused(reason)))
        .isEqualTo(new TransferProtocol.Refused(reason));
  }

  private static TransferProtocol.Answer received(TransferProtocol.Answer answer)
      throws IOException {
    Socket[] pair = Sockets.socketPair();
    try (Socket sender = pair[0];
        Socket receiver = pair[1]) {
      TransferProtocol.writeAnswer(sender, answer);
      return TransferProtocol.readAnswer(new DataInputStream(receiver.getInputStream()), 0);
    }
  }
}
