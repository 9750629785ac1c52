#!lua name=mylib
server.register_function('f1', function() return 1 end)