// The floor of a .NET process on this machine: start, write one line, exit.
System.Console.WriteLine("1.0.0");
