# Read and write keys with Ruby's Dalli, as a Rails application would.
#
# usage: ruby dalli.rb SERVER NAMESPACE get KEY raw|deserialize
#        ruby dalli.rb SERVER NAMESPACE set KEY FILE raw|serialize
#
# NAMESPACE "" is none; Dalli puts "NAMESPACE:" before every key.  get
# prints the value as it is, with no newline; set stores the bytes of
# FILE with raw: true, or serialized with Marshal (Dalli's default), and
# prints "stored".  Dalli compresses values of 4 KiB or more.

require 'dalli'

server, namespace, action, key, *rest = ARGV
options = { socket_timeout: 2, socket_max_failures: 1 }
options[:namespace] = namespace unless namespace.empty?
dc = Dalli::Client.new([server], options)
case action
when 'get'
  value = dc.get(key, raw: rest[0] == 'raw')
  abort "#{key}: not found" if value.nil?
  $stdout.binmode
  $stdout.write(value)
when 'set'
  value = File.binread(rest[0])
  ok = if rest[1] == 'raw'
         dc.set(key, value, 0, raw: true)
       else
         dc.set(key, value.force_encoding('UTF-8'))
       end
  abort "#{key}: not stored" unless ok
  puts 'stored'
else
  abort "unknown action #{action}"
end
