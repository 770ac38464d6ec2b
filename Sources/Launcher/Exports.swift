// The launcher's API speaks JobLaunch's configuration, response and error types.
@_exported import JobLaunch
