package io.jsock.tls;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Captures what a {@code System.Logger} writes, through the JDK's default backend ({@code
 * java.util.logging}). Reached by reflection: the tests run inside module {@code io.jsock}, which
 * does not read {@code java.logging} (and must not, to stay free of dependencies), and core
 * reflection needs no readability.
 */
final class LogCapture {
  private final Object logger;
  private final Object handler;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private LogCapture(String name) throws ReflectiveOperationException {
    Class<?> loggerClass = Class.forName("java.util.logging.Logger");
    Class<?> handlerClass = Class.forName("java.util.logging.Handler");
    Class<?> formatterClass = Class.forName("java.util.logging.Formatter");
    Object formatter =
        Class.forName("java.util.logging.SimpleFormatter").getConstructor().newInstance();
    handler =
        Class.forName("java.util.logging.StreamHandler")
            .getConstructor(OutputStream.class, formatterClass)
            .newInstance(out, formatter);
    logger = loggerClass.getMethod("getLogger", String.class).invoke(null, name);
    loggerClass.getMethod("addHandler", handlerClass).invoke(logger, handler);
  }

  /** Starts capturing the logger {@code name}. */
  static LogCapture start(String name) throws ReflectiveOperationException {
    return new LogCapture(name);
  }

  /** Stops capturing. */
  void stop() throws ReflectiveOperationException {
    Class<?> handlerClass = Class.forName("java.util.logging.Handler");
    handlerClass.getMethod("flush").invoke(handler);
    Class.forName("java.util.logging.Logger")
        .getMethod("removeHandler", handlerClass)
        .invoke(logger, handler);
  }

  /** What was logged, formatted by {@code SimpleFormatter}. */
  String text() {
    return out.toString(StandardCharsets.UTF_8);
  }
}
