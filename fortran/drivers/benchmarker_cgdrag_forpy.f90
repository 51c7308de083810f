!> benchmarker_cgdrag_forpy -- WaveNet-2 gravity-wave drag (MiMA cg_drag) on the T42
!> grid through the embedded-Python coupling (the forpy path), phase by phase, in one process.
!> Command line, phases, checks and results: see module cgdrag_embedded
!> (benchmarker_cgdrag_forpy_mpi runs the same on every rank of an MPI job).
program benchmarker_cgdrag_forpy
  use bench_teams, only: bench_team
  use cgdrag_embedded, only: cgdrag_embedded_run
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE): LeakSanitizer sees them at exit

  type(bench_team) :: team

  call team%start()
  call cgdrag_embedded_run(team, "benchmarker_cgdrag_forpy")

end program benchmarker_cgdrag_forpy
