!> benchmarker_cgdrag_torch_mpi -- WaveNet-2 gravity-wave drag (MiMA cg_drag) on
!> the T42 grid through the direct (libtorch) coupling on every rank of an MPI job:
!> the grid's latitude rows split into bands over MPI_COMM_WORLD, each rank
!> reading, computing and checking its own band every step.
!>
!> usage: mpirun -np N benchmarker_cgdrag_torch_mpi <same arguments as benchmarker_cgdrag_torch>
!>
!> --threads applies per rank. Rank 0 writes the results: per step the slowest
!> rank's time of each phase, and under /mpi every rank's medians, start-up
!> parts, threads, columns and CPUs (module bench_mpi_teams). A failure on any
!> rank prints "rank R of N: <message>" and ends every rank (MPI_Abort).
program benchmarker_cgdrag_torch_mpi
  use bench_mpi_teams, only: bench_mpi_team
  use cgdrag_direct, only: cgdrag_direct_run
  implicit none
  save  ! main-program variables static (the standard's implicit SAVE)

  type(bench_mpi_team) :: team

  call team%start()
  call cgdrag_direct_run(team, "benchmarker_cgdrag_torch_mpi")

end program benchmarker_cgdrag_torch_mpi
