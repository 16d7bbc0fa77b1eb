# SPDX-License-Identifier: BSD-2-Clause
# NAME
#   testca.sh - a throwaway test CA with openssl, for the revocation tests
# SUMMARY
#   . tests/testca.sh; testca_init DIR OCSP_PORT HTTP_PORT
#   testca_issue NAME EXT [DAYS]; testca_crl; testca_serve; ocsp_start [INDEX]
# DESCRIPTION
#   A root and an intermediate (EC P-256), an openssl ca config whose
#   extension sections are: leaf (AIA OCSP and CRL DP on loopback),
#   crlonly (a CRL DP, no OCSP: SC-063), bare (neither), ocsp (a delegated
#   responder with id-kp-OCSPSigning) and noeku (a responder without it).
#   testca_crl writes www/int.crl; testca_serve serves www/ over HTTP;
#   ocsp_start runs `openssl ocsp` on OCSP_PORT from an index (default the
#   CA's), signed by the delegated responder, and sets OCSP_PID.
#   Sourced after tests/lib.sh, in DIR.
# DIAGNOSTICS
#   die() from lib.sh when a server does not come up.

testca_init() {  # DIR OCSP_PORT HTTP_PORT
    D=$1; OP=$2; HP=$3
    mkdir -p "$D/www"; cd "$D"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
        -subj /CN=Test-Root -days 30 -out root.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key \
        -subj /CN=Test-Int -out int.csr 2>/dev/null
    printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
    openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 -days 30 \
        -extfile int.ext -out int.pem 2>/dev/null
    : >index.txt; echo 1000 >serial; echo 1000 >crlnumber
    cat >ca.cnf <<CNF
[ca]
default_ca = c
[c]
dir = $D
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = \$dir/int.pem
private_key = \$dir/int.key
default_md = sha256
default_days = 10
default_crl_days = 2
policy = p
unique_subject = no
[p]
commonName = supplied
[leaf]
basicConstraints = CA:false
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OP/
crlDistributionPoints = URI:http://127.0.0.1:$HP/int.crl
[crlonly]
basicConstraints = CA:false
crlDistributionPoints = URI:http://127.0.0.1:$HP/int.crl
[bare]
basicConstraints = CA:false
[ocsp]
basicConstraints = CA:false
extendedKeyUsage = OCSPSigning
[noeku]
basicConstraints = CA:false
keyUsage = digitalSignature
CNF
}

testca_issue() {  # NAME EXT [DAYS]
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
        -subj "/CN=$1" -out "$1.csr" 2>/dev/null
    openssl ca -batch -config ca.cnf -extensions "$2" -days "${3:-10}" -in "$1.csr" \
        -out "$1.pem" 2>/dev/null
}

testca_crl() { openssl ca -config ca.cnf -gencrl -out www/int.crl 2>/dev/null; }

testca_serve() {
    ( cd www && exec python3 -m http.server --bind 127.0.0.1 "$HP" ) >http.log 2>&1 &
    cleanup_push "kill $!"
    wait_for 10 "the CRL server" port_listening "$HP" || die "no CRL server"
}

ocsp_start() {  # [INDEX]
    openssl ocsp -index "${1:-index.txt}" -port "$OP" -rsigner responder.pem -rkey responder.key \
        -CA int.pem -nmin 60 >>ocsp.log 2>&1 &
    OCSP_PID=$!
    cleanup_push "kill $OCSP_PID 2>/dev/null || true"
    wait_for 10 "the OCSP responder" port_listening "$OP" || die "no OCSP responder"
}

ocsp_restart() {  # [INDEX]
    kill "$OCSP_PID"; wait "$OCSP_PID" 2>/dev/null || true
    wait_for 10 "the OCSP port to close" bash -c "! ss -Hltn 'sport = :$OP' | grep -q ." || true
    ocsp_start "$@"
}
