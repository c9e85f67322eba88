// Every test runs `dotnet` processes that mostly wait on restore and evaluation; two at a time keeps a
// shared 2-core machine responsive while halving the wall time.
[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.MethodLevel)]
