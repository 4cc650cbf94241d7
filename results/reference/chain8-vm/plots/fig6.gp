# Figure 6 (Cadeia-Aberta, SBRC 2019): mean RTT against chain length.
# Written by cadeia-bench; edit and rerun gnuplot on it in this directory.
# Data: the .dat beside it, one block per series (its comments name them):
# chain_length mean_ms sem_ms median_ms
set encoding utf8

# Least-squares fit per series, in ms: f<i>(x) = a<i> + b<i> * x
a0 = 0.877140332; b0 = 0.614609802  # series 0, R² = 0.9967
f0(x) = a0 + b0 * x
# 95 % interval of the slope: lines through (4, f0(4))
lo0(x) = f0(4) + 0.583111889 * (x - 4)
hi0(x) = f0(4) + 0.646816093 * (x - 4)

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
  '+' using 1:(lo0($1)):(hi0($1)) with filledcurves lt 1 fs transparent solid 0.15 noborder notitle, \
  f0(x) with lines lt 1 dt 2 lw 1.5 title 'fit: 0.615 ms/SF (614.6 µs/SF, 95% CI 583.1 to 646.8), R² = 0.997'
unset output

set terminal svg size 1024,720 dynamic noenhanced font 'Sans,11'
set output 'fig6.svg'
replot
unset output
