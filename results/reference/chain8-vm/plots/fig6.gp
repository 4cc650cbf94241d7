# Figure 6 (Cadeia-Aberta, SBRC 2019): mean RTT against chain length.
# Written by cadeia-bench; edit and rerun "gnuplot fig6.gp" in this directory.
# Data: fig6.dat, one block per series: chain_length mean_ms sem_ms median_ms
set encoding utf8

# Least-squares fit per series, in ms: f<i>(x) = a<i> + b<i> * x
a0 = 1.29441087; b0 = 0.633193185  # chain8-vm, R² = 0.9426
f0(x) = a0 + b0 * x

set title 'chain8-vm: ping RTT against chain length'."\n".'backend: libvirt, accelerator: tcg'
set xlabel 'Chain length (SFs)'
set ylabel 'Mean RTT (ms)'
set xrange [-0.5:8.5]
set xtics 1
set yrange [0:*]
set grid
set key top left box opaque
set bars 2

if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
  set terminal pngcairo size 1024,720 noenhanced font 'Sans,11'
} else {
  set terminal png size 1024,720 noenhanced
}
set output 'fig6.png'
plot \
  'fig6.dat' index 0 using 1:2:3 with yerrorbars lt 1 pt 7 ps 1.1 title 'chain8-vm: mean ± SE', \
  'fig6.dat' index 0 using 1:4 with points lt 1 pt 6 ps 0.9 title 'chain8-vm: median', \
  f0(x) with lines lt 1 dt 2 lw 1.5 title 'fit: 0.633 ms/SF (633.2 µs/SF), R² = 0.943'
unset output

set terminal svg size 1024,720 dynamic noenhanced font 'Sans,11'
set output 'fig6.svg'
replot
unset output
