#!lua name=lib2
server.register_function('g1', function(keys, args) return server.call('GET', keys[1]) end)
server.register_function('g2', function(keys, args) return server.call('GET', keys[1]) end)
server.register_function('g3', function(keys, args) return server.call('GET', keys[1]) end)