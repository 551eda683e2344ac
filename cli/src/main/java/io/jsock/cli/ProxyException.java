package io.jsock.cli;

import java.io.IOException;

/**
 * A proxy that would not open the tunnel, or did not speak its protocol: {@code connect to
 * example.org:80 through socks5 proxy 127.0.0.1:1080: connection not allowed by ruleset}. Exit code
 * 1; a refusal, a timeout or an unknown name that the proxy reports is thrown as jsock's own
 * exception of that kind instead, for its exit code.
 */
final class ProxyException extends IOException {
  ProxyException(String message) {
    super(message);
  }
}
