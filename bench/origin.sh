# origin.sh — sourced by edge-vs-nginx.sh and profile-edge.sh: the benchmark's objects and the nginx
# origin that serves them, so that both scripts measure against the same origin.

# bench_objects WWW: a 1 KiB and a 1 MiB object of random bytes.
bench_objects() {
	mkdir -p "$1"
	head -c 1024 /dev/urandom >"$1/1k.bin"
	head -c 1048576 /dev/urandom >"$1/1m.bin"
	chmod -R a+rX "$1"
}

# temp_paths DIR: nginx temp paths inside DIR, so that nothing is written under /var/lib/nginx.
temp_paths() {
	local d=$1
	cat <<EOF
    client_body_temp_path $d/body;
    proxy_temp_path       $d/proxy;
    fastcgi_temp_path     $d/fastcgi;
    uwsgi_temp_path       $d/uwsgi;
    scgi_temp_path        $d/scgi;
EOF
}

# origin_conf DIR PORT WWW ACCESS_LOG: the origin's nginx.conf on stdout. A static file server that
# marks everything cacheable for an hour; one worker is plenty, it serves only the warm-up misses.
# ACCESS_LOG is a file, or "off".
origin_conf() {
	local dir=$1 port=$2 www=$3 access=$4
	cat <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
$(temp_paths "$dir")
    default_type application/octet-stream;
    access_log $access;
    server {
        listen 127.0.0.1:$port;
        root $www;
        location / {
            add_header Cache-Control "max-age=3600";
        }
    }
}
EOF
}
