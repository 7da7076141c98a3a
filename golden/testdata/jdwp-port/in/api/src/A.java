class A { String p = "/health"; }
