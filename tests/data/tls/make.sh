#!/usr/bin/env bash
# Makes the test certificates in this folder (OpenSSL 3). Run from this folder: bash make.sh
# Every key is EC P-256; nothing here protects anything but loopback tests.
set -euo pipefail
days=36500   # a century
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)

# The test CA.
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days $days -subj "/CN=dbss-jobs test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# A CA of the same name with another key, as after a rotation (its key is not kept).
openssl req -x509 "${ec[@]}" -keyout rotated-ca.key -out rotated-ca.pem -days $days \
  -subj "/CN=dbss-jobs test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" && rm rotated-ca.key

# A certificate request, and a leaf signed by the CA, for $1 with SAN $2.
leaf() {
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"
}
leaf localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
openssl x509 -req -in localhost.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days -extfile localhost.ext -out localhost.pem

leaf other-host "DNS:dbss.example.com"
openssl x509 -req -in other-host.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days -extfile other-host.ext -out other-host.pem

# Expired: valid from 2000-01-01 to 2001-01-01, signed by the CA (openssl ca sets past dates).
leaf expired "DNS:localhost,IP:127.0.0.1,IP:::1"
mkdir -p ca-db && : > ca-db/index.txt && echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 20000101000000Z -enddate 20010101000000Z -extfile expired.ext -notext
rm -rf ca-db

# Self-signed: a leaf that signs itself, for localhost.
openssl req -x509 "${ec[@]}" -keyout self-signed.key -out self-signed.pem -days $days -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" -addext "basicConstraints=critical,CA:FALSE"

rm -f ./*.csr ./*.ext ca.srl
