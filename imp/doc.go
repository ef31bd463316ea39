// Package imp is the Go form of Net::IMP, the Inspection and Modification
// Protocol of Perl: its constants, results and interfaces, and the API of
// the plugins (factories and analyzers) that the imprpc server runs.
//
// # The model
//
// Net::IMP's constants are Perl dualvars, a number with a name. Here they
// are typed integers whose String method returns the name, and whose
// Parse function reads the name or any integer; a value Net::IMP does not
// define prints as its integer and is carried through unchanged:
//
//	Perl                        Go
//	IMP_PASS ... IMP_FATAL      ResultType: ResultPass ("pass", 0x1001) ... ResultFatal
//	IMP_DATA_STREAM, _PACKET    DataType: DataStream ("imp.data.stream", -1), DataPacket (+1)
//	IMP_DATA('http', ...)       DefineDataTypes("http", 80<<16, ...)
//	IMP_LOG_DEBUG ... _EMERG    LogLevel: LogDebug ("debug", 1) ... LogEmergency (8)
//	direction 0, 1              Dir: FromClient, FromServer
//	IMP_MAXOFFSET               MaxOffset (-1)
//	[IMP_PASS, $dir, $offset]   Result{Type: ResultPass, Args: ...}, made by Pass(dir, offset)
//	[$dtype, [@rtypes]]         Interface{DataType: ..., Results: ...}
//
// A Result keeps its arguments as Perl values (package perl), so that a
// result read from a Perl peer is written again with the same bytes;
// constructors such as Pass, Replace, Deny and Log make the usual shapes
// and accessors such as Dir, Offset, Data and Message read any shape.
//
// # Plugins
//
// A plugin is a Factory (Net::IMP's factory object) that makes one
// Analyzer per inspected connection. The analyzer gets the connection's
// data with Data and emits Results to the Sink it was given, from any
// goroutine and at any time:
//
//	Perl (Net::IMP::Base)                 Go
//	$class->str2cfg / cfg2str             ParseConfig / Config.String
//	$class->validate_cfg + new_factory    Plugin.New (every error at once)
//	$factory->get_interface(@if)          GetInterface(ctx, f, offered): MatchInterfaces or Negotiator
//	$factory->set_interface($if)          SetInterface(ctx, f, want)
//	sub INTERFACE                         Factory.Interfaces
//	$factory->new_analyzer(%ctx)          Factory.NewAnalyzer(ctx, meta, sink); (nil, nil) declines
//	$analyzer->data($dir,$data,$off,$t)   Analyzer.Data(dir, off, t, data)
//	set_callback / run_callback           the Sink given to NewAnalyzer
//	DESTROY                               the analyzer's context.Context is done
//
// Net::IMP's busy and poll_results have no counterpart: IMP RPC carries
// neither. Plugins register themselves in an init function with
// Register, and are then named on the command line as NAME[=CONFIG]
// (Open). The guide for plugin authors is docs/plugins.md in the
// repository; package imptest helps testing plugins.
package imp
