!> cgdrag_columns -- the explicit reshape between MiMA's (lon, lat, lev) fields
!> and the (ncol, lev) columns WaveNet-2 takes, column c = i + nlon*(j-1)
!> (Fortran order: the same columns the zero-copy views see).
!>
!> Used by the phased cgdrag drivers (--explicit-reshape, cgdrag_phases) and by
!> the f2py module (fortran/f2py), so every path that copies copies the same way.
module cgdrag_columns
  use, intrinsic :: iso_fortran_env, only: real64
  implicit none
  private

  public :: cgdrag_pack, cgdrag_unpack

  !> cgdrag_pack(field, columns): copy a (lon, lat, lev) or (lon, lat) field into
  !> (lon*lat, lev) or (lon*lat, 1) columns. Sizes must agree (not checked).
  interface cgdrag_pack
    module procedure pack_rank3, pack_rank2
  end interface cgdrag_pack

contains

  pure subroutine pack_rank3(field, columns)
    real(real64), intent(in) :: field(:, :, :)     !< (lon, lat, lev)
    real(real64), intent(out) :: columns(:, :)     !< (lon*lat, lev)
    columns = reshape(field, shape(columns))
  end subroutine pack_rank3

  pure subroutine pack_rank2(field, columns)
    real(real64), intent(in) :: field(:, :)        !< (lon, lat)
    real(real64), intent(out) :: columns(:, :)     !< (lon*lat, 1)
    columns = reshape(field, shape(columns))
  end subroutine pack_rank2

  !> Copy (lon*lat, lev) columns back into a (lon, lat, lev) field: the inverse
  !> of cgdrag_pack. Sizes must agree (not checked).
  pure subroutine cgdrag_unpack(columns, field)
    real(real64), intent(in) :: columns(:, :)      !< (lon*lat, lev)
    real(real64), intent(out) :: field(:, :, :)    !< (lon, lat, lev)
    field = reshape(columns, shape(field))
  end subroutine cgdrag_unpack

end module cgdrag_columns
