# fixture stand-in for the function tree
