package io.jsock;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ErrnoTest {
  @Test
  void errorNumbersAreLinuxsValues() {
    assertThat(Errno.EBADF).isEqualTo(9);
    assertThat(Errno.EAGAIN).isEqualTo(11);
    assertThat(Errno.EPIPE).isEqualTo(32);
    assertThat(Errno.EADDRINUSE).isEqualTo(98);
    assertThat(Errno.ECONNRESET).isEqualTo(104);
    assertThat(Errno.EPROTO).isEqualTo(71);
    assertThat(Errno.EMSGSIZE).isEqualTo(90);
    assertThat(Errno.ENOTCONN).isEqualTo(107);
    assertThat(Errno.ECONNREFUSED).isEqualTo(111);
    assertThat(Errno.EINPROGRESS).isEqualTo(115);
    assertThat(Errno.EAI_NONAME).isEqualTo(-2);
  }

  @Test
  void describeGivesTheLowerCaseStandardText() {
    assertThat(Errno.describe(Errno.ECONNREFUSED)).isEqualTo("connection refused");
    assertThat(Errno.describe(Errno.ECONNRESET)).isEqualTo("connection reset by peer");
    assertThat(Errno.describe(Errno.EPIPE)).isEqualTo("broken pipe");
    assertThat(Errno.describe(Errno.EADDRINUSE)).isEqualTo("address already in use");
    assertThat(Errno.describe(Errno.EPROTO)).isEqualTo("protocol error");
    assertThat(Errno.describe(Errno.EAI_NONAME)).isEqualTo("name or service not known");
  }

  @Test
  void describeNamesAnUnknownNumberAsPythonsStrerrorDoes() {
    // os.strerror(4242) == 'Unknown error 4242', os.strerror(0) == 'Success' (lower-cased here)
    assertThat(Errno.describe(4242)).isEqualTo("unknown error 4242");
    assertThat(Errno.describe(-1)).isEqualTo("unknown error -1");
    assertThat(Errno.describe(0)).isEqualTo("success");
  }
}
