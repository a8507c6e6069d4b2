#!/usr/bin/env bats
# The tokenizer of -e lines, which splits as FreeSWITCH's switch_separate_string does, and what it stores end to end.
# shellcheck disable=SC2154 # run --separate-stderr sets $stderr

load helper
setup_file() { mc_start; }
teardown_file() { mc_stop; }

# MOD_MEMCACHE.md 2.4, one test per row.

@test "table: a quoted value with spaces is one word" {
	run -0 "$SPLIT_WORDS" "set freeswitch:test 'This is a test'"
	[ "$output" = "[set][freeswitch:test][This is a test]" ]
}

@test "table: double quotes do not group words" {
	run -0 "$SPLIT_WORDS" 'set q1 "hello world" 300'
	[ "$output" = '[set][q1]["hello][world"][300]' ]
}

@test "table: the fifth word is the rest of the line" {
	run -0 "$SPLIT_WORDS" "set k a b c d e"
	[ "$output" = "[set][k][a][b][c d e]" ]
}

@test "table: runs of spaces separate once, and stay inside the fifth word" {
	run -0 "$SPLIT_WORDS" "set k a  b   c    d     e   f"
	[ "$output" = "[set][k][a][b][c    d     e   f]" ]
}

@test "table: an unbalanced quote swallows the rest of the line and is kept" {
	run -0 "$SPLIT_WORDS" "set k don't stop"
	[ "$output" = "[set][k][don't stop]" ]
	run -0 "$SPLIT_WORDS" "set k it's 10 ff"
	[ "$output" = "[set][k][it's 10 ff]" ]
}

@test "table: an unterminated leading quote is kept" {
	run -0 "$SPLIT_WORDS" "set k 'unterminated value here"
	[ "$output" = "[set][k]['unterminated value here]" ]
}

@test "table: quotes inside words join them and are removed" {
	run -0 "$SPLIT_WORDS" "set k a'b c'd"
	[ "$output" = "[set][k][ab cd]" ]
}

@test "table: a quoted part glued to a word, then another word" {
	run -0 "$SPLIT_WORDS" "set k 'a b'c d"
	[ "$output" = "[set][k][a bc][d]" ]
}

@test "table: two quoted parts side by side" {
	run -0 "$SPLIT_WORDS" "set k 'it''s' 5"
	[ "$output" = "[set][k][its][5]" ]
}

@test "table: two quotes make an empty word" {
	run -0 "$SPLIT_WORDS" "set k ''"
	[ "$output" = "[set][k][]" ]
}

@test "table: quoted leading and trailing spaces are kept" {
	run -0 "$SPLIT_WORDS" "set k '  padded  '"
	[ "$output" = "[set][k][  padded  ]" ]
}

@test "table: backslash space keeps both bytes in one word" {
	run -0 "$SPLIT_WORDS" 'set k a\ b'
	[ "$output" = '[set][k][a\ b]' ]
}

@test "table: backslash s, t and n are space, TAB and LF" {
	run -0 "$SPLIT_WORDS" 'set k a\sb\tc\nd'
	[ "$output" = $'[set][k][a b\tc\nd]' ]
}

@test "table: backslash quote is a literal quote, in and out of quotes" {
	run -0 "$SPLIT_WORDS" "set k it\\'s"
	[ "$output" = "[set][k][it's]" ]
	run -0 "$SPLIT_WORDS" "set k '\\'' 1"
	[ "$output" = "[set][k]['][1]" ]
}

@test "table: double backslash is one backslash" {
	run -0 "$SPLIT_WORDS" 'set k back\\slash'
	[ "$output" = '[set][k][back\slash]' ]
}

@test "table: an unknown escape keeps both bytes" {
	run -0 "$SPLIT_WORDS" 'set k x\qy'
	[ "$output" = '[set][k][x\qy]' ]
}

@test "table: TAB does not separate words" {
	run -0 "$SPLIT_WORDS" $'set k a\tb'
	[ "$output" = $'[set][k][a\tb]' ]
}

@test "table: extra and trailing spaces make no empty words" {
	run -0 "$SPLIT_WORDS" "set  k12   spaced   "
	[ "$output" = "[set][k12][spaced]" ]
}

# Beyond the table.

@test "^^ sets the delimiter: spaces are plain bytes in the fields" {
	run -0 "$SPLIT_WORDS" '^^|set|sp key|a b c|0|ff'
	[ "$output" = "[set][sp key][a b c][0][ff]" ]
}

@test "spaces, TAB, CR, LF and VT are stripped from both ends of the line" {
	run -0 "$SPLIT_WORDS" $' \t\r\n\vset k v \t\r\n\v'
	[ "$output" = "[set][k][v]" ]
}

@test "white space is stripped before ^^ is looked for" {
	run -0 "$SPLIT_WORDS" $' \t^^|a|b\r\n'
	[ "$output" = "[a][b]" ]
}

@test "^^ followed by fewer than two bytes is not a delimiter override" {
	run -0 "$SPLIT_WORDS" '^^|'
	[ "$output" = "[^^|]" ]
	run -0 "$SPLIT_WORDS" '^^'
	[ "$output" = "[^^]" ]
	run -0 "$SPLIT_WORDS" '^^| '
	[ "$output" = "[^^|]" ]
}

@test "^^ followed by exactly two bytes is a delimiter override" {
	run -0 "$SPLIT_WORDS" '^^|a'
	[ "$output" = "[a]" ]
}

@test "^^ keeps empty fields, but not after a trailing delimiter" {
	run -0 "$SPLIT_WORDS" '^^|a||b'
	[ "$output" = "[a][][b]" ]
	run -0 "$SPLIT_WORDS" '^^|a|'
	[ "$output" = "[a]" ]
}

@test "^^ trims spaces around fields" {
	run -0 "$SPLIT_WORDS" '^^| a |  b c  '
	[ "$output" = "[a][b c]" ]
}

@test "an escaped delimiter in ^^ mode is a literal delimiter" {
	run -0 "$SPLIT_WORDS" '^^|set|k\|x|v'
	[ "$output" = "[set][k|x][v]" ]
}

@test "a trailing backslash is kept literally" {
	run -0 "$SPLIT_WORDS" "set k a\\"
	[ "$output" = '[set][k][a\]' ]
	run -0 "$SPLIT_WORDS" "^^|a|b\\"
	[ "$output" = '[a][b\]' ]
}

@test "^^ and a space split on spaces, skipping those before the first word" {
	run -0 "$SPLIT_WORDS" '^^  set k1 v'
	[ "$output" = "[set][k1][v]" ]
	run -0 "$SPLIT_WORDS" "^^    set   k1  'a b'"
	[ "$output" = "[set][k1][a b]" ]
	run -0 "$SPLIT_WORDS" "^^  '"
	[ "$output" = "[']" ]
}

@test "^^ and a backslash keep a backslash that ends the line" {
	run -0 "$SPLIT_WORDS" "^^\\a\\"
	[ "$output" = '[a\]' ]
	run -0 "$SPLIT_WORDS" "^^\\'\\"
	[ "$output" = "['\\]" ]
}

@test "^^ and a backslash never split: each backslash protects the next byte" {
	run -0 "$SPLIT_WORDS" '^^\set\k\\v\s'
	[ "$output" = '[set\k\v ]' ]
}

@test "backslash s is a space that trailing trimming keeps" {
	run -0 "$SPLIT_WORDS" 'set k a\sb\s'
	[ "$output" = "[set][k][a b ]" ]
}

@test "at most 5 words: the fifth is the rest of the line, with spaces or delimiters" {
	run -0 "$SPLIT_WORDS" "a b c d e f g"
	[ "$output" = "[a][b][c][d][e f g]" ]
	run -0 "$SPLIT_WORDS" '^^|a|b|c|d|e|f'
	[ "$output" = "[a][b][c][d][e|f]" ]
}

@test "an empty or all-blank line has no words" {
	run -0 to_file "$SPLIT_WORDS" '' $' \t\r\n\v '
	[ "$output" = "" ]
	printf '\n\n' | cmp - "$BATS_TEST_TMPDIR/stdout"
}

# End to end through a server.

@test "-e with a quoted value stores it, and get returns it" {
	run -0 fsmc -e "set freeswitch:test 'This is a test'"
	[ "$output" = "+OK" ]
	run -0 to_file fsmc get freeswitch:test
	[ "$output" = "" ]
	printf 'This is a test' | cmp - "$BATS_TEST_TMPDIR/stdout"
}

@test "-e stores quoted leading and trailing spaces" {
	run -0 fsmc -e "set k1 '  padded  '"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k1"
	[ "$output" = $'VALUE k1 0 10\n  padded  \nEND' ]
}

@test "-e turns backslash s, t and n into space, TAB and LF" {
	run -0 fsmc -e 'set k2 a\sb\tc\nd'
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k2"
	[ "$output" = $'VALUE k2 0 7\na b\tc\nd\nEND' ]
}

@test "-e keeps an unbalanced quote and the rest of the line" {
	run -0 fsmc -e "set k3 don't stop"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k3"
	[ "$output" = $'VALUE k3 0 10\ndon\'t stop\nEND' ]
}

@test "-e stores an empty value from two quotes" {
	run -0 fsmc -e "set k4 ''"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k4"
	[ "$output" = $'VALUE k4 0 0\n\nEND' ]
}

@test "-e with ^^ stores spaces and hexadecimal flags" {
	run -0 fsmc -e '^^|set|k5|a b c|0|ff'
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k5"
	[ "$output" = $'VALUE k5 255 5\na b c\nEND' ]
}

@test "-e with ^^ and a space stores the value, skipping the leading spaces" {
	run -0 fsmc -e '^^  set k10 v'
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k10"
	[ "$output" = $'VALUE k10 0 1\nv\nEND' ]
}

@test "-e: double quotes do not group, and the expiration they leave is refused" {
	run -65 to_file fsmc -e 'set q1 "hello world" 300'
	[ "$output" = "fsmemcache: set: bad expiration 'world\"': not a decimal number of seconds from -2147483648 to 2147483647" ]
	printf -- '-ERR INVALID ARGUMENTS\n' | cmp - "$BATS_TEST_TMPDIR/stdout"
	run -0 mc_raw "get q1"
	[ "$output" = END ]
}

@test "-e: the rest of the line as fifth word is refused, not read as flags" {
	run -65 --separate-stderr fsmc -e "set k8 a b c d e"
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: set: bad expiration 'b': not a decimal number of seconds from -2147483648 to 2147483647" ]
	run -65 --separate-stderr fsmc -e "set k8 a 5 c d e"
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: set: bad flags 'c d e': not a hexadecimal number from 0 to ffffffff" ]
	run -0 mc_raw "get k8"
	[ "$output" = END ]
}

@test "-e: surplus words are a usage error, not ignored" {
	run -64 to_file fsmc -e "get k9 extra junk"
	[ "$output" = "fsmemcache: get: too many arguments" ]
	printf '%s' "$USAGE" | cmp - "$BATS_TEST_TMPDIR/stdout"
}

@test "argv mode takes each argument byte for byte: no escapes" {
	run -0 fsmc set k6 'a\sb'
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k6"
	[ "$output" = $'VALUE k6 0 4\na\\sb\nEND' ]
}

@test "argv mode takes each argument byte for byte: no quote handling" {
	run -0 fsmc set k7 "it's"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get k7"
	[ "$output" = $'VALUE k7 0 4\nit\'s\nEND' ]
}

@test "-e with an empty line is a usage error" {
	run -64 to_file fsmc -e ''
	[ "$output" = "fsmemcache: no command given" ]
	printf '%s' "$USAGE" | cmp - "$BATS_TEST_TMPDIR/stdout"
}

@test "-e with an all-blank line is a usage error" {
	run -64 to_file fsmc -e '   '
	[ "$output" = "fsmemcache: no command given" ]
	printf '%s' "$USAGE" | cmp - "$BATS_TEST_TMPDIR/stdout"
}
