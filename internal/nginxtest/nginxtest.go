// Package nginxtest writes nginx configurations for tests: nginx in the foreground,
// one process, its pid, logs and temporary files in a test's own directory, so that
// it needs no system configuration and leaves nothing behind.
package nginxtest

import "fmt"

// Config is a whole nginx.conf whose http block holds servers (one or more server
// blocks), with everything nginx writes kept under dir.
func Config(dir, servers string) string {
	return fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s;
  proxy_temp_path %[1]s;
  fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s;
  scgi_temp_path %[1]s;
%[2]s}
`, dir, servers)
}
