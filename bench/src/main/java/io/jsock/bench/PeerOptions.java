package io.jsock.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The options of the benchmark peers, spelt as {@code jsock echo} and {@code jsock bench} spell
 * them ({@code --host}, {@code --port}, {@code --udp}, {@code -c}, {@code --duration 10s}), so that
 * the comparison script starts every peer the same way.
 */
final class PeerOptions {
  private final Map<String, String> values;

  private PeerOptions(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Reads {@code --name value} pairs and bare {@code flags}; anything else is a usage error that
   * names the program and the argument.
   */
  static PeerOptions parse(String program, String[] args, Set<String> named, Set<String> flags) {
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (flags.contains(arg)) {
        values.put(arg, "true");
      } else if (named.contains(arg) && i + 1 < args.length) {
        values.put(arg, args[++i]);
      } else {
        throw new IllegalArgumentException(
            program + ": unknown option or missing value: " + arg + "; options: " + named + flags);
      }
    }
    return new PeerOptions(values);
  }

  /**
   * Prints {@code Echo server listening on HOST:PORT}, as {@code jsock echo} does: the line the
   * comparison script waits for.
   */
  static void announceListening(String host, int port) {
    System.out.println(
        "Echo server listening on " + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
    System.out.flush();
  }

  String text(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  int number(String name, int fallback) {
    String text = values.get(name);
    return text == null ? fallback : Integer.parseInt(text);
  }

  boolean flag(String name) {
    return values.containsKey(name);
  }

  /** A duration written {@code 500ms}, {@code 2s} or {@code 1m}, as {@code jsock bench} takes. */
  Duration duration(String name, Duration fallback) {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    if (text.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
    }
    if (text.endsWith("s")) {
      return Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
    }
    if (text.endsWith("m")) {
      return Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
    }
    throw new IllegalArgumentException(name + ": not a duration (500ms, 2s, 1m): " + text);
  }
}
