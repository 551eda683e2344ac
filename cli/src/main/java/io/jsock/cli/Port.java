package io.jsock.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a port option: a whole number from 0 to 65535 (0 asks for any free port). */
final class Port implements ITypeConverter<Integer> {
  @Override
  public Integer convert(String text) {
    String number = text.strip();
    // ASCII digits, as ncat: parseInt alone takes any Unicode digit; leading zeros as many as
    // ncat and getaddrinfo take, nine digits after them so that parseInt cannot overflow
    if (!number.matches("[+-]?0*[0-9]{1,9}")) {
      throw new TypeConversionException("not a port number: " + text);
    }
    int port = Integer.parseInt(number);
    if (port < 0 || port > 0xFFFF) {
      throw new TypeConversionException("port out of range 0..65535: " + port);
    }
    return port;
  }
}
