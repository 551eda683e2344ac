package io.jsock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON that {@code --json} output writes. */
class JsonTest {
  @Test
  void stringsEscapeWhatJsonRequires() {
    assertThat(Json.string("a\"b\\c\nd\re\tf\u0001g"))
        .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\"");
    assertThat(Json.string("héllo ::1")).isEqualTo("\"héllo ::1\"");
  }

  @Test
  void objectsAndArraysKeepTheirOrder() {
    assertThat(Json.array(List.of(Json.object("b", "1", "a", Json.string("x")), "[]")))
        .isEqualTo("[{\"b\":1,\"a\":\"x\"},[]]");
    assertThatThrownBy(() -> Json.object("lonely"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("namesAndValues: names and values come in pairs");
  }
}
