package io.jsock.cli;

import java.util.List;

/** The little JSON that {@code --json} output needs: strings, objects and arrays, written once. */
final class Json {
  private Json() {}

  /** A JSON string with the characters JSON requires escaped. */
  static String string(String text) {
    StringBuilder json = new StringBuilder(text.length() + 2).append('"');
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        default -> {
          if (c < 0x20) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    return json.append('"').toString();
  }

  /** An object from name and JSON-value pairs, in order. */
  static String object(String... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("namesAndValues: names and values come in pairs");
    }
    StringBuilder json = new StringBuilder("{");
    for (int i = 0; i < namesAndValues.length; i += 2) {
      json.append(i == 0 ? "" : ",").append(string(namesAndValues[i])).append(':');
      json.append(namesAndValues[i + 1]);
    }
    return json.append('}').toString();
  }

  /** An array of JSON values. */
  static String array(List<String> values) {
    return "[" + String.join(",", values) + "]";
  }
}
