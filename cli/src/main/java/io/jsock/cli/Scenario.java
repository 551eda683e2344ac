package io.jsock.cli;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The loads {@code jsock bench} can put on an echo server. */
enum Scenario {
  /** Each connection sends a message and waits for its echo before sending the next. */
  PINGPONG,
  /** Each connection keeps K messages in flight. */
  PIPELINE,
  /** Each connection streams writes while reading the echo back, at full speed. */
  BULK,
  /** Connect, echo one message, close, again: the connection rate. */
  CONNECT,
  /** Datagrams, one in flight per socket; a missing echo counts as lost. */
  UDP;

  /** The scenario's name on the command line and in output. */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The scenarios' names, for the completion script. */
  static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(values()).map(Scenario::label).iterator();
    }
  }

  /** Reads a scenario name, in any case. */
  static final class Converter implements ITypeConverter<Scenario> {
    @Override
    public Scenario convert(String text) {
      for (Scenario scenario : values()) {
        if (scenario.label().equalsIgnoreCase(text.strip())) {
          return scenario;
        }
      }
      throw new TypeConversionException(
          "unknown scenario '"
              + text
              + "'; one of "
              + Arrays.stream(values()).map(Scenario::label).collect(Collectors.joining(", ")));
    }
  }
}
