package io.jsock.cli;

import java.util.Optional;

/**
 * The credentials of {@code --proxy-auth USER[:PASS]}: a SOCKS4 user id, RFC 1929's user name and
 * password for SOCKS5, HTTP Basic for HTTP.
 *
 * @param user the user name (or SOCKS4 user id)
 * @param password the password, if {@code :PASS} was given
 * @param source where they were given, for messages: {@code --proxy-auth} or {@code
 *     JSOCK_PROXY_AUTH}
 */
record ProxyAuth(String user, Optional<String> password, String source) {

  /**
   * {@code USER[:PASS]} given in {@code source}, split at the first colon: a password may hold
   * colons, a user not.
   */
  static ProxyAuth parse(String text, String source) {
    int colon = text.indexOf(':');
    return colon < 0
        ? new ProxyAuth(text, Optional.empty(), source)
        : new ProxyAuth(text.substring(0, colon), Optional.of(text.substring(colon + 1)), source);
  }
}
