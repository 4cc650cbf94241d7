# RTT under background load (p50 solid, p99 dashed), written by cadeia-bench.
set encoding utf8
set title 'compare-chain8: RTT under background load (chain length 8)'
set xlabel 'Background load (% of the 64-byte no-drop rate)'
set ylabel 'RTT (µs)'
set xrange [-5:105]
set yrange [0:*]
set grid
set key top left box opaque
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1024,720 noenhanced font 'Sans,11'
} else {
  set terminal png size 1024,720 noenhanced
}
set output 'load.png'
plot 'load.dat' index 0 using 1:2 with linespoints lc 1 lw 2 title 'cadeia-aberta p50', \
     'load.dat' index 0 using 1:3 with linespoints lc 1 dt 2 title 'cadeia-aberta p99', \
     'load.dat' index 1 using 1:2 with linespoints lc 2 lw 2 title 'phantomsfc p50', \
     'load.dat' index 1 using 1:3 with linespoints lc 2 dt 2 title 'phantomsfc p99', \
     'load.dat' index 2 using 1:2 with linespoints lc 3 lw 2 title 'ovs-nsh p50', \
     'load.dat' index 2 using 1:3 with linespoints lc 3 dt 2 title 'ovs-nsh p99'
unset output
set terminal svg size 1024,720 dynamic noenhanced font 'Sans,11'
set output 'load.svg'
replot
unset output
