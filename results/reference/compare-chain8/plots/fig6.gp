# Figure 6 (Cadeia-Aberta, SBRC 2019): mean RTT against chain length.
# Written by cadeia-bench; edit and rerun gnuplot on it in this directory.
# Data: the .dat beside it, one block per series (its comments name them):
# chain_length mean_ms sem_ms median_ms
set encoding utf8

# Least-squares fit per series, in ms: f<i>(x) = a<i> + b<i> * x
a0 = 0.0645838512; b0 = 0.0311383253  # series 0, R² = 0.9300
f0(x) = a0 + b0 * x
# 95 % interval of the slope: lines through (4, f0(4))
lo0(x) = f0(4) + 0.0269922226 * (x - 4)
hi0(x) = f0(4) + 0.0353856653 * (x - 4)
a1 = 0.0691372646; b1 = 0.037214438  # series 1, R² = 0.9449
f1(x) = a1 + b1 * x
# 95 % interval of the slope: lines through (4, f1(4))
lo1(x) = f1(4) + 0.032179721 * (x - 4)
hi1(x) = f1(4) + 0.0424115044 * (x - 4)
a2 = 0.129170326; b2 = 0.0898514015  # series 2, R² = 0.9621
f2(x) = a2 + b2 * x
# 95 % interval of the slope: lines through (4, f2(4))
lo2(x) = f2(4) + 0.0832630833 * (x - 4)
hi2(x) = f2(4) + 0.095856143 * (x - 4)

set title 'compare-chain8: ping RTT against chain length'."\n".'backend: netns, accelerator: none (no VM)'
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
  'fig6.dat' index 0 using 1:2:3 with yerrorbars lt 1 pt 7 ps 1.1 title 'cadeia-aberta: mean ± SE', \
  'fig6.dat' index 0 using 1:4 with points lt 1 pt 6 ps 0.9 title 'cadeia-aberta: median', \
  '+' using 1:(lo0($1)):(hi0($1)) with filledcurves lt 1 fs transparent solid 0.15 noborder notitle, \
  f0(x) with lines lt 1 dt 2 lw 1.5 title 'fit: 0.031 ms/SF (31.1 µs/SF, 95% CI 27.0 to 35.4), R² = 0.930', \
  'fig6.dat' index 1 using 1:2:3 with yerrorbars lt 2 pt 7 ps 1.1 title 'phantomsfc: mean ± SE', \
  'fig6.dat' index 1 using 1:4 with points lt 2 pt 6 ps 0.9 title 'phantomsfc: median', \
  '+' using 1:(lo1($1)):(hi1($1)) with filledcurves lt 2 fs transparent solid 0.15 noborder notitle, \
  f1(x) with lines lt 2 dt 2 lw 1.5 title 'fit: 0.037 ms/SF (37.2 µs/SF, 95% CI 32.2 to 42.4), R² = 0.945', \
  'fig6.dat' index 2 using 1:2:3 with yerrorbars lt 3 pt 7 ps 1.1 title 'ovs-nsh: mean ± SE', \
  'fig6.dat' index 2 using 1:4 with points lt 3 pt 6 ps 0.9 title 'ovs-nsh: median', \
  '+' using 1:(lo2($1)):(hi2($1)) with filledcurves lt 3 fs transparent solid 0.15 noborder notitle, \
  f2(x) with lines lt 3 dt 2 lw 1.5 title 'fit: 0.090 ms/SF (89.9 µs/SF, 95% CI 83.3 to 95.9), R² = 0.962'
unset output

set terminal svg size 1024,720 dynamic noenhanced font 'Sans,11'
set output 'fig6.svg'
replot
unset output
