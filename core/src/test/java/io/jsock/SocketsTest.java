package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SocketsTest {
  @AfterEach
  void restoreTheDefault() {
    Sockets.setDefaultTimeout(null);
  }

  @Test
  void theDefaultTimeoutStartsBlocking() {
    assertThat(Sockets.getDefaultTimeout()).isNull();
  }

  @Test
  void setDefaultTimeoutTakesEachOfTheThreeModes() throws Exception {
    Sockets.setDefaultTimeout(Duration.ofMillis(1500));
    assertThat(Sockets.getDefaultTimeout()).isEqualTo(Duration.ofMillis(1500));

    Sockets.setDefaultTimeout(Duration.ZERO);
    assertThat(Sockets.getDefaultTimeout()).isEqualTo(Duration.ZERO);
    try (Socket socket = Socket.create()) {
      assertThat(socket.getBlocking()).isFalse();
    }

    Sockets.setDefaultTimeout(null);
    assertThat(Sockets.getDefaultTimeout()).isNull();
  }

  @Test
  void setDefaultTimeoutRejectsANegativeTimeout() {
    assertThatThrownBy(() -> Sockets.setDefaultTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("timeout must not be negative");
    assertThat(Sockets.getDefaultTimeout()).isNull();
  }
}
