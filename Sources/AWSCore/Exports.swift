// The client's API speaks CurlHTTP's request, response and header types.
@_exported import CurlHTTP
