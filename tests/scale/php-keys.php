<?php
// Check or write keys with PHP's memcached extension, set up as a PHP
// application sets up a shared pool.
//
// usage: php php-keys.php SERVERS PREFIX COUNT check|write VALUEPREFIX
//
// SERVERS is "host:port[:weight],...".  The keys are PREFIX1 ..
// PREFIXCOUNT and the value of PREFIXn is VALUEPREFIXn.  check prints
// "found N of COUNT", write "wrote COUNT".  The environment chooses the
// options, set before the servers are added:
//   PHP_DISTRIBUTION  "libketama" (the default):
//                       setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true)
//                     "consistent":
//                       setOption(Memcached::OPT_DISTRIBUTION,
//                                 Memcached::DISTRIBUTION_CONSISTENT)
//                     "modula": the extension's defaults
//   PHP_PREFIX_KEY    a prefix for every key (OPT_PREFIX_KEY), hashed with
//                     the key (OPT_HASH_WITH_PREFIX_KEY)

list(, $servers, $prefix, $count, $action, $vprefix) = $argv;
$m = new Memcached();
$mode = getenv('PHP_DISTRIBUTION') !== false ? getenv('PHP_DISTRIBUTION') : 'libketama';
if ($mode === 'libketama') {
    $m->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
} elseif ($mode === 'consistent') {
    $m->setOption(Memcached::OPT_DISTRIBUTION, Memcached::DISTRIBUTION_CONSISTENT);
} elseif ($mode !== 'modula') {
    fwrite(STDERR, "unknown PHP_DISTRIBUTION $mode\n");
    exit(2);
}
if (getenv('PHP_PREFIX_KEY') !== false) {
    $m->setOption(Memcached::OPT_PREFIX_KEY, getenv('PHP_PREFIX_KEY'));
    $m->setOption(Memcached::OPT_HASH_WITH_PREFIX_KEY, true);
}
$list = array();
foreach (explode(',', $servers) as $spec) {
    $parts = explode(':', trim($spec));
    $list[] = array($parts[0], (int)$parts[1], isset($parts[2]) ? (int)$parts[2] : 1);
}
$m->addServers($list);
if ($action === 'write') {
    for ($n = 1; $n <= $count; $n++) {
        if (!$m->set($prefix . $n, $vprefix . $n)) {
            fwrite(STDERR, "set $prefix$n: " . $m->getResultMessage() . "\n");
            exit(1);
        }
    }
    echo "wrote $count\n";
    exit(0);
}
$found = 0;
for ($n = 1; $n <= $count; $n++) {
    if ($m->get($prefix . $n) === $vprefix . $n) {
        $found++;
    }
}
echo "found $found of $count\n";
