!> benchmarker_cgdrag_torch -- WaveNet-2 gravity-wave drag (MiMA cg_drag) on the T42
!> grid through the direct (libtorch) coupling, phase by phase, in one process.
!> Command line, phases, checks and results: see module cgdrag_direct
!> (benchmarker_cgdrag_torch_mpi runs the same on every rank of an MPI job).
program benchmarker_cgdrag_torch
  use bench_teams, only: bench_team
  use cgdrag_direct, only: cgdrag_direct_run
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(bench_team) :: team

  call team%start()
  call cgdrag_direct_run(team, "benchmarker_cgdrag_torch")

end program benchmarker_cgdrag_torch
